build-san/common/err.o: common/err.c common/err.h common/util.h
common/err.h:
common/util.h:
