build-san/server/api/objects.o: server/api/objects.c common/json.h \
 server/api/internal.h common/err.h common/util.h server/api/patch.h \
 server/api/write.h server/labkube.h server/resources/resources.h \
 server/store/store.h
common/json.h:
server/api/internal.h:
common/err.h:
common/util.h:
server/api/patch.h:
server/api/write.h:
server/labkube.h:
server/resources/resources.h:
server/store/store.h:
