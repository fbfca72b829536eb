// Test-only: a plugin built against another ABI version.
#include <ccci/plugin.hpp>

extern "C" BOOST_SYMBOL_EXPORT const ccci::PluginInfo ccci_plugin_info;
extern "C" const ccci::PluginInfo ccci_plugin_info = {ccci::kAbiVersion + 998, "custom-html"};
