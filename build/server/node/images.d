build/server/node/images.o: server/node/images.c server/node/images.h
server/node/images.h:
