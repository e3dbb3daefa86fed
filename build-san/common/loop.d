build-san/common/loop.o: common/loop.c common/loop.h common/util.h
common/loop.h:
common/util.h:
