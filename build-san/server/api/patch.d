build-san/server/api/patch.o: server/api/patch.c common/json.h \
 common/util.h server/api/patch.h common/err.h
common/json.h:
common/util.h:
server/api/patch.h:
common/err.h:
