build-san/server/api/table.o: server/api/table.c server/api/internal.h \
 common/err.h common/json.h common/util.h server/resources/resources.h
server/api/internal.h:
common/err.h:
common/json.h:
common/util.h:
server/resources/resources.h:
