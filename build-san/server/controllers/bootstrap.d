build-san/server/controllers/bootstrap.o: server/controllers/bootstrap.c \
 common/json.h common/util.h server/api/write.h common/err.h \
 server/labkube.h server/resources/resources.h server/store/store.h
common/json.h:
common/util.h:
server/api/write.h:
common/err.h:
server/labkube.h:
server/resources/resources.h:
server/store/store.h:
