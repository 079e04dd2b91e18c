// What `gg lambda deploy` and `gg gcf package` package: the handlers' source
// (compiled into gg) and where the build left the gg-lambda executor.
#pragma once

namespace gg::lambda {

extern const char kHandlerPy[];
extern const char kExecutorBuiltAt[];

}  // namespace gg::lambda

namespace gg::gcf {

extern const char kIndexJs[];
extern const char kPackageJson[];

}  // namespace gg::gcf
