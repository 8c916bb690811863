// cuda/ops/box_loss/box_loss_math.hpp — box regression terms on encoded deltas: L1 (torchvision v1's
// F.l1_loss(reduction="sum"); gradient sign(d) with sign(0) = 0, as torch.abs) and smooth L1
// (F.smooth_l1_loss: 0.5 d^2 / beta below beta, |d| - 0.5 beta above; beta 0 is L1). torchvision's
// _box_loss "smooth_l1" defaults to beta 1; Detectron2's RetinaNet config uses beta 0) on encoded
// deltas, and GIoU on decoded boxes (torchvision v2).
#pragma once

#include "../box_coder/box_coder_math.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD float l1_term(float pred, float target, float* grad) {
  const float d = pred - target;
  *grad = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
  return d < 0.0f ? -d : d;
}

enum class box_loss_kind { l1, smooth_l1, giou };

struct box_loss_options {
  box_loss_kind kind = box_loss_kind::l1;
  float beta = 1.0f;  // smooth_l1 only
  float eps = 1e-7f;  // giou only (torchvision's default)
};

DETKIT_HD float box_loss_term(const box_loss_options& o, float pred, float target, float* grad) {
  if (o.kind == box_loss_kind::l1 || o.beta <= 0.0f) return l1_term(pred, target, grad);
  const float d = pred - target;
  const float ad = d < 0.0f ? -d : d;
  if (ad < o.beta) {
    *grad = d / o.beta;
    return 0.5f * d * d / o.beta;
  }
  *grad = d > 0.0f ? 1.0f : -1.0f;
  return ad - 0.5f * o.beta;
}

/// torchvision.ops.generalized_box_iou_loss of the box decoded from `delta` on `anchor` against
/// `gt` (torchvision v2's box loss), with d loss / d delta (4 floats) through the decode, its
/// clamp at log(1000/16) included. Ties in min/max send the gradient one way (torch splits them).
DETKIT_HD float giou_term(const float* delta, const float* anchor, const float* gt, float eps,
                          float* grad) {
  const decoded_box d = box_decode_center_size(delta, anchor);
  float box[4];
  box_corners(d, box);
  const float x1 = box[0], y1 = box[1], x2 = box[2], y2 = box[3];
  // The chain rule through the decode needs the anchor's size and the predicted size.
  const float w = anchor[2] - anchor[0], h = anchor[3] - anchor[1];
  const float pw = d.w, ph = d.h;
  const float xk1 = x1 > gt[0] ? x1 : gt[0], yk1 = y1 > gt[1] ? y1 : gt[1];
  const float xk2 = x2 < gt[2] ? x2 : gt[2], yk2 = y2 < gt[3] ? y2 : gt[3];
  const bool overlap = yk2 > yk1 && xk2 > xk1;
  const float inter = overlap ? (xk2 - xk1) * (yk2 - yk1) : 0.0f;
  const float a1 = (x2 - x1) * (y2 - y1), a2 = (gt[2] - gt[0]) * (gt[3] - gt[1]);
  const float uni = a1 + a2 - inter;
  const float xc1 = x1 < gt[0] ? x1 : gt[0], yc1 = y1 < gt[1] ? y1 : gt[1];
  const float xc2 = x2 > gt[2] ? x2 : gt[2], yc2 = y2 > gt[3] ? y2 : gt[3];
  const float c = (xc2 - xc1) * (yc2 - yc1);
  const float iou = inter / (uni + eps);
  const float loss = 1.0f - (iou - (c - uni) / (c + eps));
  // L = 1 - I/(U+eps) + (C-U)/(C+eps), U = A1 + A2 - I.
  const float dl_du = inter / ((uni + eps) * (uni + eps)) - 1.0f / (c + eps);
  const float dl_dc = 1.0f / (c + eps) - (c - uni) / ((c + eps) * (c + eps));
  const float dl_di = -1.0f / (uni + eps) - dl_du;
  const float dl_da1 = dl_du;
  const float iw = overlap ? xk2 - xk1 : 0.0f, ih = overlap ? yk2 - yk1 : 0.0f;
  const float gx1 = -dl_da1 * (y2 - y1) + (overlap && x1 > gt[0] ? -dl_di * ih : 0.0f) +
                    (x1 < gt[0] ? -dl_dc * (yc2 - yc1) : 0.0f);
  const float gx2 = dl_da1 * (y2 - y1) + (overlap && x2 < gt[2] ? dl_di * ih : 0.0f) +
                    (x2 > gt[2] ? dl_dc * (yc2 - yc1) : 0.0f);
  const float gy1 = -dl_da1 * (x2 - x1) + (overlap && y1 > gt[1] ? -dl_di * iw : 0.0f) +
                    (y1 < gt[1] ? -dl_dc * (xc2 - xc1) : 0.0f);
  const float gy2 = dl_da1 * (x2 - x1) + (overlap && y2 < gt[3] ? dl_di * iw : 0.0f) +
                    (y2 > gt[3] ? dl_dc * (xc2 - xc1) : 0.0f);
  grad[0] = (gx1 + gx2) * w;
  grad[1] = (gy1 + gy2) * h;
  // torch.clamp passes the gradient where the input is <= max.
  grad[2] = delta[2] <= box_xform_clip ? 0.5f * (gx2 - gx1) * pw : 0.0f;
  grad[3] = delta[3] <= box_xform_clip ? 0.5f * (gy2 - gy1) * ph : 0.0f;
  return loss;
}

/// One foreground anchor: its loss and the gradient of its 4 deltas.
DETKIT_HD float box_loss_anchor(const box_loss_options& o, const float* delta, const float* target,
                                const float* anchor, float* grad) {
  if (o.kind == box_loss_kind::giou) return giou_term(delta, anchor, target, o.eps, grad);
  float sum = 0.0f;
  for (int j = 0; j < 4; ++j) sum += box_loss_term(o, delta[j], target[j], &grad[j]);
  return sum;
}

}  // namespace cuda
DETKIT_END_NAMESPACE
