build-san/server/api/body.o: server/api/body.c server/api/internal.h \
 common/err.h common/json.h common/util.h server/api/protobuf.h
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/api/protobuf.h:
