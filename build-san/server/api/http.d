build-san/server/api/http.o: server/api/http.c common/loop.h \
 server/api/api.h common/err.h server/api/internal.h common/json.h \
 common/util.h server/labkube.h server/store/store.h
common/loop.h:
server/api/api.h:
common/err.h:
server/api/internal.h:
common/json.h:
common/util.h:
server/labkube.h:
server/store/store.h:
