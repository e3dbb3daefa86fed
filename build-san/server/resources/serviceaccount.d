build-san/server/resources/serviceaccount.o: \
 server/resources/serviceaccount.c server/resources/res_internal.h \
 common/err.h common/json.h common/util.h server/resources/coldesc.h \
 server/resources/resources.h
server/resources/res_internal.h:
common/err.h:
common/json.h:
common/util.h:
server/resources/coldesc.h:
server/resources/resources.h:
