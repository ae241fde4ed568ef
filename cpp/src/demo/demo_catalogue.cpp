// The demo corpus's sources: the voice packs it trains on and the music, effects and ambience it
// mixes under them (demo/demo_corpus.h).
#include <string>
#include <utility>
#include <vector>

#include "hptrain/demo/demo_corpus.h"

namespace hptrain::data {

const std::vector<std::string>& demo_cast() {
  static const std::vector<std::string> kCast = {"Default",    "Default_es", "Default_pl",
                                                 "Default_ru", "HillBilly",  "Robot"};
  return kCast;
}

const std::vector<std::pair<std::string, std::string>>& demo_music() {
  static const std::vector<std::pair<std::string, std::string>> kMusic = {
      {"battle-epic.ogg", "action"},
      {"battle.ogg", "action"},
      {"breaking_the_chains.ogg", "action"},
      {"casualties_of_war.ogg", "action"},
      {"frantic.ogg", "action"},
      {"legends_of_the_north.ogg", "action"},
      {"loyalists.ogg", "action"},
      {"northerners.ogg", "action"},
      {"siege_of_laurelmor.ogg", "action"},
      {"the_dangerous_symphony.ogg", "action"},
      {"vengeful.ogg", "action"},
      {"weight_of_revenge.ogg", "action"},
      {"heroes_rite.ogg", "emotional"},
      {"journeys_end.ogg", "emotional"},
      {"love_theme.ogg", "emotional"},
      {"nunc_dimittis.ogg", "emotional"},
      {"revelation.ogg", "emotional"},
      {"sad.ogg", "emotional"},
      {"the_city_falls.ogg", "emotional"},
      {"the_king_is_dead.ogg", "emotional"},
      {"transience.ogg", "emotional"},
      {"elvish-theme.ogg", "neutral"},
      {"into_the_shadows.ogg", "neutral"},
      {"knalgan_theme.ogg", "neutral"},
      {"knolls.ogg", "neutral"},
      {"main_menu.ogg", "neutral"},
      {"northern_mountains.ogg", "neutral"},
      {"return_to_wesnoth.ogg", "neutral"},
      {"silvan_sanctuary.ogg", "neutral"},
      {"suspense.ogg", "neutral"},
      {"the_deep_path.ogg", "neutral"},
      {"traveling_minstrels.ogg", "neutral"},
      {"underground.ogg", "neutral"},
      {"wanderer.ogg", "neutral"},
  };
  return kMusic;
}

const std::vector<std::string>& demo_effects() {
  static const std::vector<std::string> kEffects = {
      "axe.ogg",
      "bow.ogg",
      "bow-miss.ogg",
      "cave-in.ogg",
      "claws.ogg",
      "club.ogg",
      "crossbow.ogg",
      "crossbow-miss.ogg",
      "dagger-swish.wav",
      "explosion.ogg",
      "fire.wav",
      "fist.ogg",
      "flail.ogg",
      "flame-big.ogg",
      "fuse.ogg",
      "gunshot.wav",
      "hatchet.wav",
      "lightning.ogg",
      "mace.ogg",
      "magic-dark.ogg",
      "magic-missile-1.ogg",
      "magic-missile-2.ogg",
      "melee-fire.ogg",
      "net.wav",
      "rumble.ogg",
      "sling.ogg",
      "spear.ogg",
      "staff.ogg",
      "sword-1.ogg",
      "thunderstick.ogg",
      "throwing-knife.ogg",
      "torch.ogg",
      "water-blast.wav",
  };
  return kEffects;
}

const std::vector<std::string>& demo_ambience() {
  static const std::vector<std::string> kAmbience = {"birds1.ogg",   "birds2.ogg",  "birds3.ogg",
                                                     "campfire.ogg", "morning.ogg", "night.ogg",
                                                     "ship.ogg"};
  return kAmbience;
}

}  // namespace hptrain::data
