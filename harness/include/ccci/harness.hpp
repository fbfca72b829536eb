// The front header for recipe plugins: the ABI plus every harness helper.
#pragma once

#include "ccci/expect.hpp"
#include "ccci/git.hpp"
#include "ccci/http.hpp"
#include "ccci/plugin.hpp"
#include "ccci/readiness.hpp"
#include "ccci/text.hpp"
#include "ccci/webdav.hpp"
