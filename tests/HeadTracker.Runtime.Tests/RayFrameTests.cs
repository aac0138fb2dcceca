using System;
using HeadTracking.Runtime.Pose;

namespace HeadTracking.Runtime.Tests;

/// <summary>The ray frame of pose heads: the rotation relative to a virtual camera looking
/// straight at the head centre.</summary>
public class RayFrameTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.4, 0.0)]
    [InlineData(0.0, -0.3)]
    [InlineData(-0.35, 0.25)]
    public void Ray_turns_the_camera_axis_onto_the_ray_without_twist_and_round_trips(double x, double y)
    {
        Span<double> ray = stackalloc double[9];
        Rotation.Ray(x, y, ray);
        double n = Math.Sqrt((x * x) + (y * y) + 1);
        // Third column = Ray · (0, 0, 1) = the unit ray.
        Assert.Equal(x / n, ray[2], 12);
        Assert.Equal(y / n, ray[5], 12);
        Assert.Equal(1 / n, ray[8], 12);
        // The smallest rotation: its axis lies in the image plane, so the x axis keeps no y part
        // along a horizontal ray, and the rotation angle is the ray's angle off the axis.
        double angle = Math.Acos(Math.Clamp((ray[0] + ray[4] + ray[8] - 1) / 2, -1, 1));
        Assert.Equal(Math.Atan(Math.Sqrt((x * x) + (y * y))), angle, 9);

        Span<double> camera = stackalloc double[9];
        Rotation.FromEuler(25, -10, 15, camera);
        Span<double> apparent = stackalloc double[9];
        Span<double> back = stackalloc double[9];
        Rotation.CameraToRay(camera, x, y, apparent);
        Rotation.RayToCamera(apparent, x, y, back);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(camera[i], back[i], 12);
        }
    }

    [Theory]
    [InlineData(179, -179, 2)]
    [InlineData(10, 370, 0)]
    [InlineData(0, 180, 180)]
    [InlineData(-30, 45, 75)]
    public void Angles_are_compared_the_short_way_round(double a, double b, double expected)
    {
        Assert.Equal(expected, Rotation.AngleDifference(a, b), 9);
        Assert.Equal(expected, Rotation.AngleDifference(b, a), 9);
    }

    [Fact]
    public void A_head_facing_the_camera_off_axis_is_turned_in_the_camera_frame_and_frontal_to_its_ray()
    {
        // A head 20 cm right of the axis at 50 cm, looking straight at the camera: in the camera's
        // axes it has turned toward the camera (its z axis, the back of the head, points along
        // the ray), yaw = atan(20 / 50) (toward the image's left); relative to its ray it is frontal.
        double x = 20.0 / 50.0, y = 0;
        Span<double> camera = stackalloc double[9];
        Rotation.Ray(x, y, camera);
        (double yaw, double pitch, double roll) = Rotation.ToEuler(camera);
        Assert.Equal(Math.Atan(x) * 180 / Math.PI, yaw, 9);
        Assert.Equal(0, pitch, 9);
        Assert.Equal(0, roll, 9);
        Span<double> apparent = stackalloc double[9];
        Rotation.CameraToRay(camera, x, y, apparent);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(i % 4 == 0 ? 1 : 0, apparent[i], 12);
        }
    }
}
