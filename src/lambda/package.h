// What `gg lambda deploy` packages: the handler's source (compiled into gg)
// and where the build left the gg-lambda executor.
#pragma once

namespace gg::lambda {

extern const char kHandlerPy[];
extern const char kExecutorBuiltAt[];

}  // namespace gg::lambda
