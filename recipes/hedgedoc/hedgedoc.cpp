// hedgedoc: /status answers; /new makes a note that then serves.
#include <ccci/harness.hpp>

namespace {

class Hedgedoc final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"notes", "markdown"}, .ready = {.path = "/status"}};
  }

  void probe(ccci::Context& ctx) override {
    ctx.check("status counts the notes", [&] {
      if (!ccci::expect_http(ctx, "/status").status(200).json_at("/notesCount").is_number())
        throw ccci::CheckFailure("notesCount is not a number");
    });
    ctx.check("/new redirects to a new note that then serves", [&] {
      const ccci::HttpClient browser(ctx.http());  // one session: the note belongs to its cookie
      auto created = ccci::expect_http(browser, {.url = ctx.url("/new")});
      const std::string note = created.redirects_to("/").response().header("location");
      ccci::expect_http(browser, {.url = note.starts_with("http") ? note : ctx.url(note)})
          .status(200)
          .body_contains("HedgeDoc");
    });
  }
};

}  // namespace

CCCI_PLUGIN(Hedgedoc, "hedgedoc")
