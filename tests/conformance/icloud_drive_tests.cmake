# The iCloud Drive folder plugin's conformance run (providers/icloud_drive), included by
# tests/CMakeLists.txt: the whole suite on a plain folder, loaded like any third-party plugin,
# its staging folder beside the location (outside it, on the same volume), with provider-level
# faults on as for the built-in folder provider. iCloud's own behaviour (stubs, duplicates,
# slow downloads) is tested in tests/integration/icloud_drive_*_test.cc.
set(_icloud_dir "${CMAKE_BINARY_DIR}/conformance-locations")
add_test(NAME conformance_icloud_drive
  COMMAND jsync-conformance --plugin "$<TARGET_FILE:jsync_provider_icloud_drive>"
    --location "${_icloud_dir}/icloud-drive"
    --config "{\"staging\":\"${_icloud_dir}/icloud-drive-staging\"}"
    --provider-faults "503@2,429@5,timeout@9,reset@14,torn@20,timeout:PUT@30-31")
set_tests_properties(conformance_icloud_drive PROPERTIES
  LABELS "conformance;integration" TIMEOUT 300)
# The same suite with the location inside a root of a running iCloud Drive simulator, which
# copies every change to a second root (another Mac) and back with delays and jitter.
if(TARGET jsync-emulator)
  add_test(NAME conformance_icloud_drive_simulator
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/conformance/icloud_drive_with_simulator.sh"
      "$<TARGET_FILE:jsync-emulator>" "$<TARGET_FILE:jsync-conformance>"
      "$<TARGET_FILE:jsync_provider_icloud_drive>" "${_icloud_dir}/icloud-drive-simulator"
      --provider-faults "503@2,429@5,timeout@9,reset@14,torn@20,timeout:PUT@30-31")
  set_tests_properties(conformance_icloud_drive_simulator PROPERTIES
    LABELS "conformance;integration" TIMEOUT 300)
endif()
