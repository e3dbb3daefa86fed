build-san/server/api/discovery.o: server/api/discovery.c \
 server/api/internal.h common/err.h common/json.h common/util.h \
 server/api/openapi.h server/resources/resources.h
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/api/openapi.h:
server/resources/resources.h:
