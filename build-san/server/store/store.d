build-san/server/store/store.o: server/store/store.c common/err.h \
 common/json.h common/util.h server/store/store.h
common/err.h:
common/json.h:
common/util.h:
server/store/store.h:
