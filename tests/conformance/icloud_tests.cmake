# The iCloud plugin's conformance runs (tests/conformance/icloud_conformance_main.cc) against
# `jsync-emulator cloudkit`, included by tests/CMakeLists.txt when the emulator and the plugin
# are built. Objects above 64 KiB go to assets and above 256 KiB into parts (the kit's 1 MiB
# objects and 50 MiB round trip take several), so every content path is covered.
if(TARGET jsync_conformance_icloud)
  set(_icloud_sizes --inline-max 65536 --asset-max 262144)
  # The whole suite with real token rotation, and with the emulator's own faults spread over the
  # ordinary tests (answered before the token check, as CloudKit's throttling is).
  add_test(NAME conformance_icloud
    COMMAND jsync_conformance_icloud --list-files 400 ${_icloud_sizes}
      "--gtest_filter=Provider/ConformanceTest.*")
  add_test(NAME conformance_icloud_emulator_faults
    COMMAND jsync_conformance_icloud --list-files 400 --no-large ${_icloud_sizes}
      --faults "throttle:1@17,unavailable:1@29,drop@41,500@67,502@97,throttle:none@131,504@163,drop@211,unavailable:2@257,500@307,drop@401,throttle:1@503,502@601,drop@797"
      "--gtest_filter=Provider/ConformanceTest.*:-*RetryAfterALostAnswerIsIdempotent*")
  # The fault tests and the host client's transport faults: lost answers would end the sign-in
  # (icloud_plugin_test), so these run with one unrotated token (--no-rotation). A web auth
  # token cannot be refreshed: a 401 means "sign in again" (icloud_plugin_test and
  # cloudkit_flow_test show it), so the two tests that count refreshes after a 401, and 401s
  # among the transport faults, do not apply.
  add_test(NAME conformance_icloud_fault_counts
    COMMAND jsync_conformance_icloud --no-rotation --list-files 50 --no-large ${_icloud_sizes}
      "--gtest_filter=*FaultPlanSyntax*:Provider/ConformanceFaultTest.*:Provider/ConformanceHttpFaultTest.*:Provider/ConformanceTest.RetryAfterALostAnswerIsIdempotent*:-*ExpiredTokenIsRefreshedOnce*:*AuthThatNeverRecoversIsAuthExpired*")
  set_tests_properties(conformance_icloud conformance_icloud_emulator_faults PROPERTIES
    LABELS "conformance;integration;icloud" TIMEOUT 600)
  set_tests_properties(conformance_icloud_fault_counts PROPERTIES
    LABELS "conformance;integration;icloud" TIMEOUT 600
    ENVIRONMENT "JSYNC_FAULTS=429@3,503@5,reset@7,torn@9,timeout@13")
endif()
