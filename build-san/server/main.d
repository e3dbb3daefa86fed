build-san/server/main.o: server/main.c common/loop.h common/util.h \
 server/api/api.h common/err.h server/labkube.h server/store/store.h
common/loop.h:
common/util.h:
server/api/api.h:
common/err.h:
server/labkube.h:
server/store/store.h:
