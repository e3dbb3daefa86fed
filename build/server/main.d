build/server/main.o: server/main.c common/loop.h common/util.h \
 server/api/api.h common/err.h server/controllers/controllers.h \
 server/labkube.h server/node/images.h server/node/node.h \
 server/store/store.h
common/loop.h:
common/util.h:
server/api/api.h:
common/err.h:
server/controllers/controllers.h:
server/labkube.h:
server/node/images.h:
server/node/node.h:
server/store/store.h:
