// Help ▸ About lmscope: which lmscope this is (version and git revision, lmscope/version.h) and which Qt it runs on.
#pragma once

#include <QString>

class QWidget;

// The About box's text (rich text).
QString aboutText();
// Shows it, modal, over `parent`.
void showAboutBox(QWidget* parent);
