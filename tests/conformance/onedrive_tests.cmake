# The OneDrive plugin's conformance runs (tests/conformance/onedrive_conformance_main.cc) against
# `jsync-emulator onedrive`, included by tests/CMakeLists.txt when the emulator and the plugin are
# built. Each entry: the whole suite with the emulator's own faults spread over the ordinary tests
# (as conformance_gdrive_emulator_faults) and the host client's transport faults (JSYNC_FAULTS),
# objects above 256 KiB through upload sessions of 320 KiB fragments. Kept to a few minutes on
# two cores: 600 objects in the listing test, the 50 MiB round trip only in the personal run.
if(TARGET jsync_conformance_onedrive)
  set(_onedrive_faults
    "429@17,503:none@29,drop@41,expire-token@53,500@67,drop-upload@79,502@97,509@131,drop-download@163,429:2@211,423@257,expire-token@307,504@401,drop@503,drop-upload@601,503@797,drop@1009,429@1201,expire-token@1499,500@1801")
  # The ordinary tests only: a server fault landing in a fault test would spoil its exact
  # counts, and a lost answer to a timed-out PUT (RetryAfterALostAnswerIsIdempotent) is counted.
  set(_onedrive_filter
    "--gtest_filter=Provider/ConformanceTest.*:-*RetryAfterALostAnswerIsIdempotent*")
  add_test(NAME conformance_onedrive_personal
    COMMAND jsync_conformance_onedrive --list-files 600 --simple-upload-max 262144
      --faults "${_onedrive_faults}" "${_onedrive_filter}")
  add_test(NAME conformance_onedrive_business
    COMMAND jsync_conformance_onedrive --business --list-files 600 --no-large
      --simple-upload-max 262144 --faults "${_onedrive_faults}" "${_onedrive_filter}")
  # The fault tests with their exact counts, on a quiet emulator (each sets its own transport
  # faults, clearing JSYNC_FAULTS).
  add_test(NAME conformance_onedrive_fault_counts
    COMMAND jsync_conformance_onedrive --list-files 50 --no-large --simple-upload-max 262144
      "--gtest_filter=*FaultPlanSyntax*:Provider/ConformanceFaultTest.*:Provider/ConformanceHttpFaultTest.*:Provider/ConformanceTest.RetryAfterALostAnswerIsIdempotent*")
  # No local 401 in the runs with the emulator's faults: where it meets an expire-token the
  # resend after the refresh is refused too, which is AUTH_EXPIRED by design (two 401s in a
  # row). The emulator's expire-token covers the refresh there; fault_counts has the 401.
  set_tests_properties(conformance_onedrive_personal conformance_onedrive_business PROPERTIES
    LABELS "conformance;integration;onedrive" TIMEOUT 600
    ENVIRONMENT "JSYNC_FAULTS=429@3,503@5,reset@7,torn@9,timeout@13")
  set_tests_properties(conformance_onedrive_fault_counts PROPERTIES
    LABELS "conformance;integration;onedrive" TIMEOUT 600
    ENVIRONMENT "JSYNC_FAULTS=429@3,503@5,reset@7,torn@9,401@11,timeout@13")
endif()
