build-san/server/api/selector.o: server/api/selector.c common/json.h \
 common/util.h server/api/selector.h common/err.h
common/json.h:
common/util.h:
server/api/selector.h:
common/err.h:
