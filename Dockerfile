# One image that runs the lab cluster:
#   docker build -t labkube . && docker run --privileged -p 6443:6443 labkube
# (--privileged: pods get their own network namespaces and the proxy programs
# nftables.) The API then answers on http://127.0.0.1:6443 from the host.
FROM debian:bookworm-slim AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	build-essential pkg-config libsqlite3-dev libmicrohttpd-dev libcjson-dev \
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev \
	libyaml-dev zlib1g-dev >/dev/null
WORKDIR /src
COPY . .
RUN make BUILD=/out DEPS_STAMP=/dev/null -j"$(nproc)" /out/labkube

FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	libsqlite3-0 libmicrohttpd12 libcjson1 libnl-3-200 libnl-genl-3-200 \
	libnl-route-3-200 libnftnl11 libmnl0 libyaml-0-2 zlib1g iproute2 nftables \
	busybox curl dnsutils >/dev/null && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/labkube /usr/local/bin/labkube
EXPOSE 6443
ENTRYPOINT ["labkube", "server", "--listen", "0.0.0.0:6443"]
