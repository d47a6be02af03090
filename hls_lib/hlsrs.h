// hlsrs layer library: included by every generated project.
#ifndef HLSRS_H_
#define HLSRS_H_

#include "hlsrs_activation.h"
#include "hlsrs_common.h"
#include "hlsrs_conv.h"
#include "hlsrs_dense.h"
#include "hlsrs_elementwise.h"
#include "hlsrs_recurrent.h"
#include "hlsrs_softmax.h"
#include "hlsrs_trace.h"

#endif
