build-san/server/api/smpatch.o: server/api/smpatch.c common/json.h \
 common/util.h server/api/patch.h common/err.h
common/json.h:
common/util.h:
server/api/patch.h:
common/err.h:
