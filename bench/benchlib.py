"""bench/benchlib.py: what every section of bench/RESULTS.md shares.

Imported by bench/lkbench.py, bench/pods.py and the Python parts of the
shell scripts (proxy-sync.py, proxy-apply.sh, proxy-wrk.sh, dns.sh), so that
each section reports the load average and the round-to-round drift the same
way and flags them by the same rules:

- drift: a figure measured in rounds is flagged when max/min over its rounds
  exceeds DRIFT (1.30): its median then says less than its digits suggest;
- load: the 1-minute load average is read at the start and at the end of the
  section and flagged when it exceeds the number of CPUs. At the start it is
  mostly what ran before (other work on the machine, the previous section:
  the 1-minute figure decays with a time constant of a minute); at the end
  it includes the section's own servers and clients.

Every section is written to the file named by LKB_SECTION (bench/run.sh
assembles RESULTS.md from them) or, without it, printed on stdout only.
Only the standard library.
"""
import os
import sys

DRIFT = 1.30


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def loadavg():
    """The 1, 5 and 15-minute load averages as a list of floats."""
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def fmt_load(la):
    return "%.2f %.2f %.2f" % tuple(la)


def load_flags(start, end, ncpu=None):
    """Sentences flagging a 1-minute load average above the CPU count."""
    ncpu = ncpu or os.cpu_count()
    out = []
    if start[0] > ncpu:
        out.append("**load**: the 1-minute load average was %.2f at the start of this "
                   "section, above the %d CPUs: something else was running (another "
                   "program, or the previous section's processes still in the average)"
                   % (start[0], ncpu))
    if end[0] > ncpu:
        out.append("**load**: the 1-minute load average was %.2f at the end of this "
                   "section, above the %d CPUs (this section's own servers and clients "
                   "count in it): the processes measured waited for a CPU part of the time"
                   % (end[0], ncpu))
    return out


def load_line(start, end):
    return "Load average (1, 5, 15 min): %s at the start of this section, %s at the end." % (
        fmt_load(start), fmt_load(end))


def drift(name, values, unit=""):
    """A flag sentence when max/min of the rounds exceeds DRIFT, else None."""
    vs = [v for v in values if v is not None]
    if len(vs) < 2:
        return None
    lo, hi = min(vs), max(vs)
    if lo <= 0:
        return "**drift**: %s: rounds range from %g to %g%s" % (name, lo, hi, unit)
    r = hi / lo
    if r <= DRIFT:
        return None
    shown = "%.2f" % r if "%.2f" % r != "%.2f" % DRIFT else "%.3f" % r
    return ("**drift**: %s: rounds range from %s to %s%s (max/min %s× > %.2f×): "
            "the median is uncertain" % (name, fmt_g(lo), fmt_g(hi), unit, shown, DRIFT))


def max_min(values):
    vs = [v for v in values if v is not None]
    if len(vs) < 2 or min(vs) <= 0:
        return None
    return max(vs) / min(vs)


def fmt_g(x):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return "{:,.0f}".format(x)
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def flags_block(flags):
    """Markdown for the flags of a section ('' when there is none)."""
    flags = [f for f in flags if f]
    if not flags:
        return ("No flags: the 1-minute load average stayed at or below the CPU count and "
                "no figure's rounds spread by more than %.2f× (max/min).\n" % DRIFT)
    return "Flags:\n\n" + "".join("- %s\n" % f for f in flags)


def emit(text, name):
    """Write a section to $LKB_SECTION, or print it when that is unset."""
    path = os.environ.get("LKB_SECTION", "")
    if not text.endswith("\n"):
        text += "\n"
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        sys.stderr.write("bench: the %s section is in %s\n" % (name, path))
    else:
        sys.stdout.write("\n" + text)


if __name__ == "__main__":
    # For shell scripts: `benchlib.py load` prints "1m 5m 15m".
    if sys.argv[1:] == ["load"]:
        print(fmt_load(loadavg()))
    else:
        sys.exit("usage: benchlib.py load")
