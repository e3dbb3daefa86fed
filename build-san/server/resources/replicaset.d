build-san/server/resources/replicaset.o: server/resources/replicaset.c \
 server/resources/res_internal.h common/err.h common/json.h common/util.h \
 server/resources/coldesc.h server/resources/resources.h
server/resources/res_internal.h:
common/err.h:
common/json.h:
common/util.h:
server/resources/coldesc.h:
server/resources/resources.h:
