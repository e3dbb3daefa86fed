build/server/controllers/informer.o: server/controllers/informer.c \
 common/json.h common/loop.h common/util.h server/api/write.h \
 common/err.h server/controllers/informer.h server/store/store.h \
 server/labkube.h server/resources/resources.h
common/json.h:
common/loop.h:
common/util.h:
server/api/write.h:
common/err.h:
server/controllers/informer.h:
server/store/store.h:
server/labkube.h:
server/resources/resources.h:
