build-san/server/api/write.o: server/api/write.c common/json.h \
 common/util.h server/api/write.h common/err.h \
 server/resources/resources.h server/store/store.h
common/json.h:
common/util.h:
server/api/write.h:
common/err.h:
server/resources/resources.h:
server/store/store.h:
