using System;
using HeadTracker.Runtime.Preprocessing;
using OpenCvSharp;

namespace HeadTracker.Runtime.Tests;

public class LetterboxTests
{
    private const int Size = 64;

    /// <summary>Value of input pixel (x, y), channel R, of an interleaved [0, 1] input.</summary>
    private static float R(float[] input, int x, int y) => input[((y * Size) + x) * 3];

    /// <summary>A 640x480 black frame with a white 20x20 square whose top-left is (400, 100).</summary>
    private static Mat Frame()
    {
        var frame = new Mat(480, 640, MatType.CV_8UC3, Scalar.Black);
        frame.Rectangle(new Rect(400, 100, 20, 20), Scalar.White, -1);
        return frame;
    }

    [Fact]
    public void A_crop_puts_the_region_in_the_input_maps_back_to_frame_pixels_and_pads_beyond_the_frame()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];

        // An 80-pixel square centred on the white square: scale 64/80, the square fills the middle.
        box.RunCrop(frame, 410, 110, 80, input);
        Assert.Equal(0.8f, box.ScaleX, 5);
        Assert.Equal(1f, R(input, 32, 32), 2);
        Assert.Equal(0f, R(input, 4, 4), 2);
        Assert.Equal(410f, box.ToFrameX(32), 3);
        Assert.Equal(110f, box.ToFrameY(32), 3);

        // A crop hanging over the frame's top-left corner: black there, the frame's pixels elsewhere.
        frame.Rectangle(new Rect(0, 0, 10, 10), Scalar.White, -1);
        box.RunCrop(frame, 0, 0, 64, input);
        Assert.Equal(0f, R(input, 10, 10), 2); // beyond the frame
        Assert.Equal(1f, R(input, 36, 36), 2); // frame pixel (4, 4)
        Assert.Equal(4f, box.ToFrameX(36), 3);

        // The whole-frame letterbox after a crop: padding black again, the mapping its own.
        box.Run(frame, input);
        Assert.Equal(0.1f, box.ScaleX, 5);
        Assert.Equal(8f, box.PadY, 3); // 640x480 into 64x64: 48 rows, 8 above and below
        Assert.Equal(0f, R(input, 40, 2), 2);
        Assert.Equal(1f, R(input, 41, 19), 2); // the square at (410, 110) lands at (41, 19)
    }

    [Fact]
    public void Crops_that_move_every_frame_allocate_nothing()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];
        box.RunCrop(frame, 300, 200, 100, input);
        box.Run(frame, input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            box.RunCrop(frame, 300 + i, 200 - i, 100 + i, input);
            if (i % 50 == 0)
            {
                box.Run(frame, input);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_crop_that_is_not_a_region_is_refused()
    {
        using var box = new Letterbox(Size, Size, 1f / 255, 0);
        using Mat frame = Frame();
        var input = new float[Size * Size * 3];
        Assert.Throws<ArgumentException>(() => box.RunCrop(frame, float.NaN, 0, 80, input));
        Assert.Throws<ArgumentException>(() => box.RunCrop(frame, 10, 10, 0, input));
    }
}
