// ferryctl's side of the control socket: control::Call (declared with the
// server in server.h, which this header includes).
#pragma once

#include "protocols/control/server.h"
