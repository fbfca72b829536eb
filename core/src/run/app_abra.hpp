// The Abra a plugin sees: the run's AbraClient, bound to the app under test,
// so a recipe test can ask about its own app and no other.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ccci/abra_client.hpp"
#include "ccci/plugin.hpp"

namespace ccci {

class AppAbra final : public Abra {
 public:
  AppAbra(AbraClient& client, std::string domain, std::filesystem::path checkout)
      : client_(client), domain_(std::move(domain)), checkout_(std::move(checkout)) {}

  using Abra::app_run;
  std::string app_run(const std::string& service, const std::vector<std::string>& command,
                      const SecretFinder& reveal) override {
    return client_.app_run(domain_, service, command, reveal);
  }
  std::string secret(const std::string& name) const override { return client_.secret(name); }
  void insert_secret(const std::string& name, const std::string& version, const std::string& value) override {
    client_.insert_secret(domain_, name, version, value);
  }
  void set_env(const std::string& key, const std::string& value) override {
    client_.set_env(domain_, key, value);
  }
  std::optional<std::string> env_value(const std::string& key) const override {
    return client_.env_value(domain_, key);
  }
  const std::filesystem::path& checkout() const override { return checkout_; }

 private:
  AbraClient& client_;
  const std::string domain_;
  const std::filesystem::path checkout_;
};

}  // namespace ccci
