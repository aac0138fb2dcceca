using System;
using HeadTracker.Demo.Rendering;
using HeadTracker.Runtime.Detection;
using OpenCvSharp;

namespace HeadTracker.Demo.Tests;

public class OverlayRendererTests
{
    private const int W = 200, H = 100;

    [Fact]
    public void Frame_box_and_keypoints_land_on_the_right_pixels()
    {
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        using var renderer = new OverlayRenderer(egl.Gl);
        using var target = new OffscreenTarget(egl.Gl);
        // A frame whose left half is dark blue and right half grey (BGR), so the texture's
        // orientation shows too.
        using var frame = new Mat(H, W, MatType.CV_8UC3, new Scalar(90, 20, 10));
        frame[new Rect(W / 2, 0, W / 2, H)].SetTo(new Scalar(128, 128, 128));

        var faces = new FaceDetections();
        faces.Boxes[0] = 40; faces.Boxes[1] = 20; faces.Boxes[2] = 160; faces.Boxes[3] = 80;
        faces.Scores[0] = 0.9f;
        for (int k = 0; k < FaceDetections.KeypointCount; k++)
        {
            faces.Keypoints[k * 2] = 60 + (k * 16);
            faces.Keypoints[(k * 2) + 1] = 50;
        }

        faces.Count = 1;

        target.Bind(W, H);
        renderer.Draw(frame, faces, W, H);
        byte[] rgba = target.ReadRgba();

        (byte R, byte G, byte B) At(int x, int y)
        {
            int i = (((H - 1 - y) * W) + x) * 4; // OpenGL rows are bottom-up
            return (rgba[i], rgba[i + 1], rgba[i + 2]);
        }

        static void Near((byte R, byte G, byte B) got, float[] want, string where)
        {
            int d = Math.Max(Math.Abs(got.R - (int)(want[0] * 255)), Math.Max(Math.Abs(got.G - (int)(want[1] * 255)), Math.Abs(got.B - (int)(want[2] * 255))));
            Assert.True(d <= 3, $"{where}: got {got}, wanted {string.Join(",", want)}");
        }

        Near(At(10, 10), [10 / 255f, 20 / 255f, 90 / 255f], "frame, left half (BGR 90,20,10 shown as RGB 10,20,90)");
        Near(At(190, 90), [128 / 255f, 128 / 255f, 128 / 255f], "frame, right half");
        Near(At(100, 19), OverlayRenderer.BoxColor, "top edge of the box");
        Near(At(100, 80), OverlayRenderer.BoxColor, "bottom edge of the box");
        Near(At(39, 50), OverlayRenderer.BoxColor, "left edge of the box");
        Near(At(160, 30), OverlayRenderer.BoxColor, "right edge of the box");
        Near(At(100, 30), [128 / 255f, 128 / 255f, 128 / 255f], "inside the box, away from keypoints");
        for (int k = 0; k < FaceDetections.KeypointCount; k++)
        {
            Near(At(60 + (k * 16), 50), OverlayRenderer.KeypointColors[k], $"keypoint {k}");
        }
    }
}
