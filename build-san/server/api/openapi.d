build-san/server/api/openapi.o: server/api/openapi.c common/util.h \
 server/api/openapi.h server/labkube.h server/resources/resources.h \
 common/err.h
common/util.h:
server/api/openapi.h:
server/labkube.h:
server/resources/resources.h:
common/err.h:
