build-san/server/resources/endpointslice.o: \
 server/resources/endpointslice.c server/resources/res_internal.h \
 common/err.h common/json.h common/util.h server/resources/coldesc.h \
 server/resources/resources.h
server/resources/res_internal.h:
common/err.h:
common/json.h:
common/util.h:
server/resources/coldesc.h:
server/resources/resources.h:
