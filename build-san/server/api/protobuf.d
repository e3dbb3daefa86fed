build-san/server/api/protobuf.o: server/api/protobuf.c common/util.h \
 server/api/protobuf.h common/err.h
common/util.h:
server/api/protobuf.h:
common/err.h:
