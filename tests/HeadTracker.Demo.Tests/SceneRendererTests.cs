using System;
using System.Linq;
using HeadTracking.Demo.Rendering;
using HeadTracking.Runtime;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Tests;

public class SceneRendererTests
{
    private const int W = 200, H = 100;

    /// <summary>A frame whose left half is dark blue and right half grey (BGR), so the texture's
    /// orientation shows too.</summary>
    private static Mat Frame()
    {
        var frame = new Mat(H, W, MatType.CV_8UC3, new Scalar(90, 20, 10));
        frame[new Rect(W / 2, 0, W / 2, H)].SetTo(new Scalar(128, 128, 128));
        return frame;
    }

    /// <summary>A head with a box, six keypoints in a row, its centre, a zero pose, and a 4x4 mask
    /// over the whole frame whose top-left 2x2 cells are head.</summary>
    private static TrackingResult Result()
    {
        var r = new TrackingResult { Sequence = 1, Valid = true, Score = 1, CenterX = 100, CenterY = 65, FrameWidth = W, FrameHeight = H };
        r.Box[0] = 40;
        r.Box[1] = 20;
        r.Box[2] = 160;
        r.Box[3] = 80;
        r.Keypoints = new float[12];
        for (int k = 0; k < 6; k++)
        {
            r.Keypoints[k * 2] = 60 + (k * 16);
            r.Keypoints[(k * 2) + 1] = 40;
        }

        r.Mask = new byte[16];
        r.MaskWidth = r.MaskHeight = 4;
        foreach (int i in new[] { 0, 1, 4, 5 })
        {
            r.Mask[i] = 255;
        }

        r.MaskRegion[2] = W;
        r.MaskRegion[3] = H;
        return r;
    }

    private static (byte R, byte G, byte B) At(byte[] rgba, int x, int y)
    {
        int i = (((H - 1 - y) * W) + x) * 4; // OpenGL rows are bottom-up
        return (rgba[i], rgba[i + 1], rgba[i + 2]);
    }

    private static void Near((byte R, byte G, byte B) got, float[] want, string where)
    {
        int d = Math.Max(Math.Abs(got.R - (int)Math.Round(want[0] * 255)), Math.Max(Math.Abs(got.G - (int)Math.Round(want[1] * 255)), Math.Abs(got.B - (int)Math.Round(want[2] * 255))));
        Assert.True(d <= 3, $"{where}: got {got}, wanted {string.Join(",", want)}");
    }

    [Fact]
    public void Frame_mask_box_keypoints_centre_and_axes_land_on_the_right_pixels()
    {
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        using var renderer = new SceneRenderer(egl.Gl);
        using var target = new OffscreenTarget(egl.Gl);
        using Mat frame = Frame();
        target.Bind(W, H);
        renderer.Draw(frame, Result(), new SceneFlags(), null, null, W, H);
        byte[] rgba = target.ReadRgba();

        float[] blue = [10 / 255f, 20 / 255f, 90 / 255f], grey = [128 / 255f, 128 / 255f, 128 / 255f];
        float a = SceneRenderer.MaskTint[3];
        float[] tinted = [.. new[] { 0, 1, 2 }.Select(c => (blue[c] * (1 - a)) + (SceneRenderer.MaskTint[c] * a))];
        Near(At(rgba, 10, 10), tinted, "frame's top-left, where the mask is head: tinted");
        Near(At(rgba, 10, 90), blue, "frame's bottom-left, outside the mask");
        Near(At(rgba, 190, 90), grey, "frame's right half, outside the mask");
        Near(At(rgba, 100, 19), SceneRenderer.BoxColor, "top edge of the box");
        Near(At(rgba, 130, 80), SceneRenderer.BoxColor, "bottom edge of the box");
        Near(At(rgba, 39, 60), SceneRenderer.BoxColor, "left edge of the box");
        Near(At(rgba, 160, 30), SceneRenderer.BoxColor, "right edge of the box");
        for (int k = 0; k < 6; k++)
        {
            Near(At(rgba, 60 + (k * 16), 40), SceneRenderer.KeypointColors[k], $"keypoint {k}");
        }

        Near(At(rgba, 96, 65), SceneRenderer.CentreColor, "the centre cross's left arm");
        Near(At(rgba, 135, 65), SceneRenderer.AxisColors[0], "the x axis, to the right of the centre (a head facing the camera)");
        Near(At(rgba, 100, 74), SceneRenderer.AxisColors[1], "the y axis, below the centre");
        Near(At(rgba, 130, 70), grey, "inside the box, off every mark");

        // Toggled off: no mask and no keypoints.
        renderer.Draw(frame, Result(), new SceneFlags { Mask = false, Keypoints = false }, null, null, W, H);
        rgba = target.ReadRgba();
        Near(At(rgba, 10, 10), blue, "mask off");
        Near(At(rgba, 124, 40), grey, "keypoint 4 off");
    }

    [Fact]
    public void An_invalid_result_draws_only_the_frame_and_the_hud_sits_at_the_top_left()
    {
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        using var renderer = new SceneRenderer(egl.Gl);
        using var target = new OffscreenTarget(egl.Gl);
        using Mat frame = Frame();
        TrackingResult lost = Result();
        lost.Valid = false;
        using var hud = new Mat(20, 50, MatType.CV_8UC4, new Scalar(255, 0, 0, 255)); // opaque red (RGBA)
        target.Bind(W, H);
        renderer.Draw(frame, lost, new SceneFlags(), hud, null, W, H);
        byte[] rgba = target.ReadRgba();
        Near(At(rgba, 100, 19), [128 / 255f, 128 / 255f, 128 / 255f], "no box for an invalid result");
        Near(At(rgba, 5, 5), [1f, 0f, 0f], "HUD");
        Near(At(rgba, 49, 19), [1f, 0f, 0f], "HUD's last pixel");
        Near(At(rgba, 55, 25), [10 / 255f, 20 / 255f, 90 / 255f], "beyond the HUD");
    }

    [Fact]
    public void Five_hundred_frames_leave_no_gl_objects_behind()
    {
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        GL gl = egl.Gl;
        using var renderer = new SceneRenderer(gl);
        using var target = new OffscreenTarget(gl);
        using Mat frame = Frame();
        using var hud = new Mat(20, 50, MatType.CV_8UC4, Scalar.All(200));
        using var labels = new Mat(H, W, MatType.CV_8UC4, Scalar.All(0));
        TrackingResult r = Result();
        target.Bind(W, H);
        renderer.Draw(frame, r, new SceneFlags(), hud, labels, W, H);

        // Live GL objects, counted by name (glIs* is true for names that name an object).
        (int Textures, int Buffers, int Arrays, int Programs, int Framebuffers) Live()
        {
            int Count(Func<uint, bool> isObject) => Enumerable.Range(1, 4096).Count(n => isObject((uint)n));
            return (Count(n => gl.IsTexture(n)), Count(n => gl.IsBuffer(n)), Count(n => gl.IsVertexArray(n)), Count(n => gl.IsProgram(n)), Count(n => gl.IsFramebuffer(n)));
        }

        var before = Live();
        for (int i = 0; i < 500; i++)
        {
            r.CenterX = 50 + (i % 100);
            r.Mask[i % 16] ^= 255;
            renderer.Draw(frame, r, new SceneFlags { Names = i % 2 == 0 }, hud, i % 2 == 0 ? labels : null, W, H);
        }

        target.ReadRgba();
        Assert.Equal(before, Live());
        Assert.Equal((4, 2, 2, 2, 1), before); // frame, mask, HUD, labels; two VBOs, two VAOs, two programs; one FBO
        Assert.Equal(GLEnum.NoError, gl.GetError());
    }
}
