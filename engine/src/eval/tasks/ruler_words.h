// Word lists for RULER's word keys ("adjective-noun", e.g. "quiet-harbor"), written for lmscope: common English
// adjectives and nouns, lowercase ASCII, sorted, no word in both lists. RULER draws its keys from the lists of the
// `wonderwords` package, which we do not ship; ours are smaller (346 × 493 = 170578 keys), see docs/ruler.md.
// tools/eval_reference/ruler_reference.py reads these two arrays from this file.
#pragma once

#include <array>
#include <string_view>

namespace lmscope::eval::ruler {

inline constexpr std::array<std::string_view, 346> kAdjectives = {
    "able", "absent", "active", "adorable", "afraid", "agile", "alert", "alive", "amber", "ancient", "angry",
    "annual", "anxious", "arctic", "artful", "ashen", "autumn", "awake", "aware", "awful", "bad", "bald", "bare",
    "basic", "bent", "better", "big", "bitter", "black", "bland", "blank", "bleak", "blind", "blond", "blue", "blunt",
    "bold", "bored", "brave", "brief", "bright", "brisk", "broad", "broken", "bronze", "brown", "bumpy", "busy",
    "calm", "capable", "careful", "casual", "cheap", "cheerful", "chilly", "civil", "clean", "clear", "clever",
    "close", "cloudy", "clumsy", "coarse", "cold", "common", "cool", "cosy", "crazy", "creamy", "crimson", "crisp",
    "crooked", "cruel", "curious", "curly", "cute", "damp", "dark", "dear", "decent", "deep", "dense", "direct",
    "dirty", "distant", "dizzy", "double", "dry", "dull", "dusty", "eager", "early", "easy", "elder", "elegant",
    "empty", "endless", "equal", "even", "evil", "exact", "exotic", "faint", "fair", "faithful", "false", "famous",
    "fancy", "far", "fast", "fat", "fierce", "filthy", "final", "fine", "firm", "flat", "fluffy", "foggy", "fond",
    "foolish", "formal", "frail", "free", "fresh", "friendly", "frosty", "frozen", "full", "funny", "fuzzy", "gentle",
    "giant", "gifted", "glad", "glossy", "golden", "good", "graceful", "grand", "gray", "great", "greedy", "green",
    "grim", "gross", "grumpy", "guilty", "hairy", "handsome", "happy", "hard", "harsh", "hasty", "healthy", "heavy",
    "helpful", "hidden", "high", "hollow", "holy", "honest", "hot", "huge", "humble", "hungry", "icy", "idle", "ill",
    "immense", "inner", "innocent", "jolly", "joyful", "juicy", "keen", "kind", "large", "late", "lazy", "lean",
    "legal", "light", "little", "lively", "lonely", "long", "loose", "loud", "lovely", "loyal", "lucky", "lush",
    "mad", "major", "massive", "mature", "meek", "mellow", "merry", "messy", "mighty", "mild", "minor", "misty",
    "modern", "modest", "moist", "moral", "mossy", "muddy", "narrow", "nasty", "native", "neat", "nervous", "new",
    "nice", "noble", "noisy", "normal", "numb", "odd", "old", "open", "orange", "outer", "pale", "patient", "plain",
    "pleasant", "plump", "polite", "poor", "popular", "precious", "pretty", "prickly", "private", "proud", "public",
    "pure", "purple", "quick", "quiet", "rapid", "rare", "raw", "ready", "real", "red", "regular", "rich", "rigid",
    "ripe", "rough", "round", "royal", "rude", "rural", "rusty", "sad", "safe", "salty", "sandy", "scary", "secret",
    "serious", "shaggy", "shallow", "sharp", "shiny", "short", "shy", "silent", "silky", "silly", "silver", "simple",
    "sleepy", "slim", "slow", "small", "smart", "smooth", "snowy", "soft", "solid", "sour", "spare", "spicy",
    "steady", "steep", "sticky", "stiff", "stormy", "strange", "strict", "strong", "sturdy", "sudden", "sunny",
    "swampy", "sweet", "swift", "tall", "tame", "tender", "thick", "thin", "thirsty", "tidy", "tiny", "tired",
    "tough", "tricky", "true", "ugly", "unique", "upper", "urban", "useful", "vague", "valid", "vast", "violet",
    "vivid", "warm", "wary", "weak", "wealthy", "weary", "wet", "white", "whole", "wicked", "wide", "wild", "windy",
    "wise", "witty", "wooden", "worried", "yellow", "young", "zealous",
};

inline constexpr std::array<std::string_view, 493> kNouns = {
    "acorn", "actor", "airport", "album", "alley", "anchor", "angle", "ankle", "answer", "ant", "apple", "apron",
    "arch", "arm", "army", "arrow", "artist", "ash", "attic", "aunt", "author", "avenue", "axe", "baby", "badge",
    "bag", "bakery", "ball", "balloon", "banana", "band", "bank", "barn", "barrel", "basket", "bath", "battery",
    "beach", "beam", "bean", "bear", "beard", "bed", "bee", "beetle", "bell", "belt", "bench", "berry", "bicycle",
    "bird", "blanket", "blossom", "boat", "body", "bone", "book", "boot", "border", "bottle", "boulder", "bow",
    "bowl", "box", "boy", "branch", "bread", "brick", "bridge", "broom", "brother", "brush", "bucket", "bud",
    "buffalo", "building", "bulb", "bull", "bundle", "bus", "bush", "butter", "button", "cabin", "cabinet", "cable",
    "cake", "calendar", "camel", "camera", "camp", "canal", "candle", "canoe", "canyon", "cap", "captain", "car",
    "card", "carpet", "carrot", "cart", "castle", "cat", "cave", "ceiling", "cellar", "chain", "chair", "chalk",
    "channel", "chapel", "cheese", "cherry", "chest", "chicken", "chimney", "church", "circle", "city", "cliff",
    "clock", "cloud", "clover", "coach", "coast", "coat", "coconut", "coffee", "coin", "collar", "comet", "compass",
    "cook", "copper", "coral", "corn", "corner", "cottage", "cotton", "couch", "country", "cousin", "cow", "crab",
    "crane", "crayon", "creek", "crow", "crown", "cup", "curtain", "cushion", "daisy", "dancer", "deer", "desert",
    "desk", "diamond", "dinner", "doctor", "dog", "doll", "dolphin", "donkey", "door", "dragon", "drawer", "dream",
    "dress", "drum", "duck", "dust", "eagle", "ear", "earth", "egg", "elbow", "elephant", "engine", "envelope", "eye",
    "fabric", "face", "factory", "falcon", "farm", "farmer", "father", "feather", "fence", "fern", "field", "finger",
    "fire", "fish", "flag", "flame", "flower", "flute", "fog", "forest", "fork", "fossil", "fountain", "fox", "frog",
    "fruit", "garage", "garden", "gate", "gem", "ghost", "giraffe", "glacier", "glass", "glove", "goat", "gold",
    "goose", "grape", "grass", "guitar", "hall", "hammer", "hand", "harbor", "harp", "hat", "hawk", "heart", "hedge",
    "helmet", "hen", "hill", "hive", "honey", "hook", "horizon", "horn", "horse", "hospital", "hotel", "house",
    "island", "ivy", "jacket", "jar", "jelly", "jewel", "judge", "jungle", "kettle", "key", "kingdom", "kitchen",
    "kite", "kitten", "knee", "knife", "knot", "ladder", "lake", "lamp", "lantern", "leaf", "lemon", "letter",
    "library", "lighthouse", "lily", "lion", "lizard", "lobster", "lock", "locket", "lodge", "magnet", "mango", "map",
    "maple", "marble", "market", "mask", "meadow", "melon", "mirror", "mitten", "monkey", "moon", "moose", "moth",
    "mountain", "mouse", "mug", "museum", "needle", "nest", "net", "night", "noodle", "nose", "notebook", "novel",
    "oak", "oar", "ocean", "office", "olive", "onion", "orchard", "otter", "owl", "ox", "oyster", "paint", "palace",
    "pancake", "panda", "paper", "parcel", "park", "parrot", "path", "peach", "pear", "pearl", "pebble", "pen",
    "pencil", "penguin", "pepper", "piano", "picture", "pie", "pig", "pillow", "pilot", "pine", "pipe", "planet",
    "plate", "plum", "pocket", "poem", "pond", "pony", "poppy", "port", "pot", "potato", "puppy", "puzzle", "quarry",
    "queen", "quilt", "rabbit", "radio", "rail", "rain", "rainbow", "raven", "ribbon", "rice", "river", "road",
    "robin", "rock", "rocket", "roof", "room", "rope", "rose", "saddle", "sail", "salmon", "sand", "saucer", "scarf",
    "school", "scissors", "sea", "seal", "seed", "shadow", "shark", "sheep", "shelf", "shell", "ship", "shirt",
    "shoe", "shore", "shovel", "singer", "sink", "sister", "skirt", "sky", "sled", "slipper", "snail", "snake",
    "snow", "soap", "sock", "sofa", "soldier", "song", "spade", "sparrow", "spider", "spoon", "spring", "square",
    "squirrel", "stable", "stair", "star", "station", "statue", "stone", "storm", "stove", "straw", "stream",
    "street", "string", "sugar", "suit", "summer", "sun", "swan", "sweater", "table", "tail", "teacher", "teapot",
    "tent", "thimble", "thread", "throne", "thunder", "ticket", "tiger", "timber", "toad", "tomato", "tongue",
    "tooth", "torch", "tower", "town", "toy", "tractor", "train", "tree", "trumpet", "trunk", "tulip", "tunnel",
    "turkey", "turtle", "umbrella", "valley", "vase", "vest", "village", "violin", "volcano", "wagon", "wall",
    "walnut", "wand", "wardrobe", "watch", "water", "wave", "whale", "wheat", "wheel", "whistle", "willow", "window",
    "wing", "winter", "wizard", "wolf", "wood", "worm", "yard", "yarn", "zebra",
};

}  // namespace lmscope::eval::ruler
