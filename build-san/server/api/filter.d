build-san/server/api/filter.o: server/api/filter.c server/api/internal.h \
 common/err.h common/json.h common/util.h server/api/selector.h \
 server/resources/resources.h
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/api/selector.h:
server/resources/resources.h:
