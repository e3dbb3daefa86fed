/*
 * server/controllers/controllers.h: the in-process controllers, started
 * after the API and the bootstrap objects, stopped before them. Each is one
 * file with <name>_start/<name>_stop over the informers in informer.h; this
 * table in controllers.c lists them.
 */
#ifndef LK_CONTROLLERS_H
#define LK_CONTROLLERS_H

struct labkube;

int controllers_start(struct labkube *lk);
void controllers_stop(struct labkube *lk);

#endif
