# find_package(TesseraRuntime): Tessera's runtime, to run models compiled by
# tessera-compile.
#
#   find_package(TesseraRuntime REQUIRED)
#   add_executable(app main.c)
#   target_link_libraries(app PRIVATE TesseraRuntime::tessera_runtime)
#
# Targets: TesseraRuntime::tessera_runtime (libtessera_runtime.so) and
# TesseraRuntime::tessera_runtime_static (libtessera_runtime.a, which needs
# the C++ standard library: link it from C++ or add stdc++).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include(${CMAKE_CURRENT_LIST_DIR}/TesseraRuntimeTargets.cmake)
