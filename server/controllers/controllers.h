/*
 * server/controllers/controllers.h: the in-process controllers, started
 * after the API and the bootstrap objects, stopped before them. Each is one
 * file with <name>_start/<name>_stop over the informers in informer.h; this
 * table in controllers.c lists them.
 *
 * State: each controller allocates its own at start (its file has no
 * mutable file-scope variable) and frees it at stop; the table keeps the
 * handles in lk->controllers. Informer handlers cannot be unregistered, so
 * the stops run back to back with no store commit between them (nothing is
 * delivered to a stopped controller).
 */
#ifndef LK_CONTROLLERS_H
#define LK_CONTROLLERS_H

struct labkube;

/* -1 when one fails to start; controllers_stop then stops those started. */
int controllers_start(struct labkube *lk);
void controllers_stop(struct labkube *lk);

#endif
