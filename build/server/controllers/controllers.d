build/server/controllers/controllers.o: server/controllers/controllers.c \
 common/util.h server/controllers/controllers.h server/labkube.h
common/util.h:
server/controllers/controllers.h:
server/labkube.h:
