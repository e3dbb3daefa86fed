build/server/node/node.o: server/node/node.c server/labkube.h \
 server/node/node.h
server/labkube.h:
server/node/node.h:
