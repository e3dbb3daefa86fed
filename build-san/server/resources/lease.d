build-san/server/resources/lease.o: server/resources/lease.c \
 server/resources/res_internal.h common/err.h common/json.h common/util.h \
 server/resources/coldesc.h server/resources/resources.h
server/resources/res_internal.h:
common/err.h:
common/json.h:
common/util.h:
server/resources/coldesc.h:
server/resources/resources.h:
