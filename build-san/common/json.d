build-san/common/json.o: common/json.c common/json.h common/util.h
common/json.h:
common/util.h:
