cmake_policy(SET CMP0007 NEW)
# The dependency law of docs/architecture.md, checked on the sources (configure time, and as
# the `layering` test): each folder may include only the folders listed for it.
#   cmake -DSOURCE_DIR=<repo> -P cmake/CheckLayering.cmake
#
#   core/      engine: core/ only (and providers/sdk for the ABI constants it shares)
#   host/      core/, host/, providers/sdk
#   net/       net/, core/util (Status)
#   auth/      core/, host/, net/, auth/
#   live/      core/, net/, live/: the watcher knows no provider, host or account
#   providers/<plugin>/   its own files and the SDK header, nothing of the host
#   providers/conformance/  the installed kit: core/, host/, the SDK, itself; never tests/
#                           or auth/ (the repository's runners live in tests/conformance)
#   tools/emulators/      net/, core/util, core/crypto, its own files: never a client's code
#   tools/relay/          net/, core/util, its own files: untrusted-side code that never holds
#                         a key (no core/crypto), nor the engine or a client's code
if(NOT SOURCE_DIR)
  set(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/..")
endif()

set(_rules
  "core|core/ providers/sdk/"
  "host|core/ host/ providers/sdk/"
  "net|net/ core/util/"
  "auth|core/ host/ net/ auth/"
  "live|core/ net/ live/"
  "providers/folder|"
  "providers/webdav|"
  "providers/gdrive|"
  "providers/onedrive|"
  "providers/icloud|"
  "providers/icloud_drive|"
  "providers/conformance|core/ host/ providers/sdk/ providers/conformance/"
  "tools/emulators|net/ core/util/ core/crypto/ tools/emulators/"
  "tools/relay|net/ core/util/ tools/relay/")
# Folders every rule forbids outright, whatever their include paths say.
set(_roots core/ host/ net/ auth/ live/ providers/ tools/ tests/ bench/ fuzz/)

# out = TRUE when `text` starts with one of `prefixes` (a list).
function(_starts_with_any text prefixes out)
  foreach(p IN LISTS prefixes)
    string(FIND "${text}" "${p}" at)
    if(at EQUAL 0)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

set(_violations "")
foreach(rule IN LISTS _rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 dir)
  list(LENGTH parts n)
  set(allowed "")
  if(n GREATER 1)
    list(GET parts 1 allowed_text)
    string(REPLACE " " ";" allowed "${allowed_text}")
  endif()
  file(GLOB_RECURSE files "${SOURCE_DIR}/${dir}/*.h" "${SOURCE_DIR}/${dir}/*.cc")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" inc "${line}")
      _starts_with_any("${inc}" "${_roots}" rooted)
      if(NOT rooted)
        continue()  # a file of its own folder, or a system header
      endif()
      _starts_with_any("${inc}" "${allowed}" ok)
      if(NOT ok)
        file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
        string(APPEND _violations "\n  ${rel} includes \"${inc}\" (${dir}/ may include: ${allowed})")
      endif()
    endforeach()
  endforeach()
endforeach()

if(_violations)
  message(FATAL_ERROR "dependency direction broken (docs/architecture.md):${_violations}")
endif()
