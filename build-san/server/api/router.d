build-san/server/api/router.o: server/api/router.c server/api/internal.h \
 common/err.h common/json.h common/util.h server/labkube.h \
 server/resources/resources.h
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/labkube.h:
server/resources/resources.h:
