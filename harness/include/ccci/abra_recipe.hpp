// The standard abra lifecycle, so that a recipe test only writes its checks.
#pragma once

#include "ccci/plugin.hpp"

namespace ccci {

/// deploy():   abra app new <recipe> --server S --domain D
///             abra app secret generate D --all
///             KEY=VALUE of info().env into the env file
///             configure(ctx)                       (a hook; nothing by default)
///             abra app deploy D
/// teardown(): before_teardown(ctx)                 (a hook; nothing by default)
///             abra app undeploy D ; abra app rm D -f
/// Each abra call is one recorded step; deploy stops at the first that fails,
/// teardown always runs all of its steps. Both are final so that no recipe
/// can skip teardown by mistake: extend them through the hooks.
class BOOST_SYMBOL_VISIBLE AbraRecipe : public RecipeTest {
 public:
  void deploy(Context& ctx) final;
  void teardown(Context& ctx) final;

 protected:
  /// Between secret generation and deploy: insert secrets, adjust the env file.
  virtual void configure(Context& ctx);
  /// Before undeploy: e.g. collect diagnostics.
  virtual void before_teardown(Context& ctx);
};

}  // namespace ccci
