build-san/server/api/watch.o: server/api/watch.c common/loop.h \
 server/api/internal.h common/err.h common/json.h common/util.h \
 server/labkube.h server/resources/resources.h server/store/store.h
common/loop.h:
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/labkube.h:
server/resources/resources.h:
server/store/store.h:
