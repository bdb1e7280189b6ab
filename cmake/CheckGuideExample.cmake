# ctest plugin_guide_example: the skeleton plugin in docs/plugin-guide.md (between the
# "plugin_guide_example: begin/end" markers) compiles warning-free as C++17 against the SDK
# headers alone, with -Wall -Wextra -Wpedantic -Werror, the way a plugin author copies it.
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DCXX=... -P CheckGuideExample.cmake
file(READ "${SOURCE_DIR}/docs/plugin-guide.md" guide)
string(FIND "${guide}" "<!-- plugin_guide_example: begin -->" begin)
string(FIND "${guide}" "<!-- plugin_guide_example: end -->" end)
if(begin EQUAL -1 OR end EQUAL -1 OR end LESS begin)
  message(FATAL_ERROR "docs/plugin-guide.md: no plugin_guide_example begin/end markers")
endif()
math(EXPR length "${end} - ${begin}")
string(SUBSTRING "${guide}" ${begin} ${length} block)
# Drop the marker line and the ``` fences.
string(REGEX REPLACE "^[^\n]*\n```c\\+\\+\n" "" block "${block}")
string(REGEX REPLACE "```\n$" "" block "${block}")
set(example "${BINARY_DIR}/plugin_guide_example.cc")
file(WRITE "${example}" "${block}")
execute_process(
  COMMAND "${CXX}" -std=c++17 -Wall -Wextra -Wpedantic -Werror -fPIC
    -I "${SOURCE_DIR}/providers/sdk" -c "${example}" -o "${example}.o"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the plugin guide's example does not compile cleanly:\n${out}")
endif()
message(STATUS "the plugin guide's example compiles warning-free (${example})")
