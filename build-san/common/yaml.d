build-san/common/yaml.o: common/yaml.c common/json.h common/util.h
common/json.h:
common/util.h:
